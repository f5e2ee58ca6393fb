//! Carrying out plans.
