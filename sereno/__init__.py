"""The composition root: command line, `serve`, the HTTP read API. The only package that
imports the stages."""
