"""Neural sequence models of careers: the CAREER transformer and a plain-torch training loop."""
