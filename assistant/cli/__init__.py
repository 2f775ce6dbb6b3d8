"""``underwrite``: the command line. One module per command group: it parses, calls one service, prints."""
