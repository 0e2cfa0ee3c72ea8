"""Models of what runs inside pods (the application side), e.g. distributed training."""
