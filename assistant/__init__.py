"""The application: settings and workspace, the case file and the memo, jobs, Spark, the CLI and the workbench."""
