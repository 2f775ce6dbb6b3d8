"""Training and model choice: the split and fit, the default recipe, the candidates and the choice, the text evidence, the model card, plots and the files a training run writes."""
