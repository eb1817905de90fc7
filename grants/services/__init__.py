"""Every write to the grant domain goes through a function here, one module per
lifecycle stage: apply → assess → decide → pay → follow_up."""
