//! MNIST: verified download, offline import, IDX parsing, cached loading and seeded mini-batches.
