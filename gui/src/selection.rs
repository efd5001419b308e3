//! The one selection every view shares.

use tessera_arch::cgra::PeId;

/// What the user selected; `doc` is the document's id ([`crate::docs::DocId`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    #[default]
    None,
    /// A kernel node (DFG node, scheduled op).
    Node { doc: u64, node: u32 },
    /// A PE of the array (in a mapping).
    Pe { doc: u64, pe: PeId },
    /// A design of a co-search run, by record id.
    Design { doc: u64, id: u64 },
}

impl Selection {
    /// The selected node, when it belongs to document `doc`.
    pub fn node_in(&self, doc: u64) -> Option<u32> {
        match *self {
            Selection::Node { doc: d, node } if d == doc => Some(node),
            _ => None,
        }
    }

    /// The selected PE, when it belongs to document `doc`.
    pub fn pe_in(&self, doc: u64) -> Option<PeId> {
        match *self {
            Selection::Pe { doc: d, pe } if d == doc => Some(pe),
            _ => None,
        }
    }

    /// The selected design, when it belongs to document `doc`.
    pub fn design_in(&self, doc: u64) -> Option<u64> {
        match *self {
            Selection::Design { doc: d, id } if d == doc => Some(id),
            _ => None,
        }
    }
}
