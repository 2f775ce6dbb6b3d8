"""The jobs behind the commands and the workbench: demo workspace, modelling, index build, evidence, local batch."""
