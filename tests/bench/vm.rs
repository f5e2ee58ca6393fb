//! placeholder
pub struct VmTrial;
