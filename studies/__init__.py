"""Studies beside the GAN that reuse its parts: the seeds' classifier experiments."""
