"""Channel-agnostic booking dialogue: the state machine patients chat with."""
