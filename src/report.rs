//! Output of messages for people and programs.
