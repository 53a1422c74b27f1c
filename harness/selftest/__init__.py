"""The self-test: deliberately wrong implementations (mutants) and correct variants, run
through the same path as a user's implementation, with torch.autograd.gradcheck alongside."""
