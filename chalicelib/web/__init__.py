"""The web UI: a few HTML pages, one ES module and one stylesheet, served by the app itself
(same origin, no build step). The pages are clients of the JSON API and nothing more."""
