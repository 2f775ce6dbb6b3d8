"""The Gradio workbench and the services behind its views (Gradio is imported only by ``app``)."""
