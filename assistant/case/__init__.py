"""The case file every memo, chat answer and evaluation reads, and the sources that build it."""
