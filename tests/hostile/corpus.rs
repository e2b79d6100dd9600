//! The hostile-corpus harness: disks and files crafted to crash, hang or exhaust a reader,
//! each run through every command that reads it.
