"""The shared kernel: imported by every stage, imports none of them."""
