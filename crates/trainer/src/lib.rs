//! The scratchnet trainer.
