//! `scratchnet`: see `scratchnet --help` and the crate docs of `scratchnet_trainer`.

// Freed buffers stay with the process: the system allocator gives large ones back to the OS and
// faults them in again at every step, a quarter of a convolutional net's CPU time (measured).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    scratchnet_trainer::main()
}
