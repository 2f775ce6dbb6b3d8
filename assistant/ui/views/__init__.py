"""One module per workbench view: ``layout`` builds its components, ``wire`` its events."""
