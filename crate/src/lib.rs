//! wheelsig
