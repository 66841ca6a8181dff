//! yizhan-hub: the data centre.
