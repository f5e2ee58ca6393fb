//! Orders: the containers' start order and the namespace join order.

use super::NsKind;
use super::SETNS_ORDER;
use crate::model::Container;

/// Init containers in file order, then the others in an order that respects
/// `after` (file order where it says nothing). Validation rules out cycles;
/// should one slip through, the rest follow in file order.
pub fn start_order(containers: &[Container]) -> Vec<&Container> {
    let mut out: Vec<&Container> = containers.iter().filter(|c| c.init).collect();
    let mut rest: Vec<&Container> = containers.iter().filter(|c| !c.init).collect();
    while !rest.is_empty() {
        let placed = |name: &str| out.iter().any(|o| o.name == name);
        let known = |name: &str| containers.iter().any(|c| c.name == name);
        let next = rest
            .iter()
            .position(|c| c.after.iter().all(|(t, _)| placed(t) || !known(t)))
            .unwrap_or(0);
        out.push(rest.remove(next));
    }
    out
}

/// Sorts namespace kinds into [`SETNS_ORDER`].
pub(super) fn ordered(kinds: impl IntoIterator<Item = NsKind>) -> Vec<NsKind> {
    let mut v: Vec<NsKind> = kinds.into_iter().collect();
    v.sort_by_key(|k| SETNS_ORDER.iter().position(|o| o == k));
    v.dedup();
    v
}
