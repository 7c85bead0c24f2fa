"""The base floor's distributed and weight-loading helpers, shared by reward backbones, policies and modules."""
