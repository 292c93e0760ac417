//! Support code shared by the end-to-end tests in `tests/e2e/tests/`: locating the `sunpeak`
//! binary, preparing projects, starting servers on free ports.
