//! Helpers shared by the black-box tests (spawning the real binary).
