//! Composing Atrium's subgraphs from SDL text: the snapshot of the
//! supergraph and the determinism CI relies on.

use super::fixtures::atrium_subgraphs;
use crate::composition::compose;

#[test]
fn atrium_subgraphs_compose_into_the_expected_supergraph() {
    let supergraph = compose(&atrium_subgraphs()).expect("Atrium's subgraphs compose");
    insta::assert_snapshot!(supergraph);
}

#[test]
fn composing_twice_gives_the_same_text() {
    let first = compose(&atrium_subgraphs()).expect("compose");
    let second = compose(&atrium_subgraphs()).expect("compose");
    assert_eq!(first, second);
    assert!(first.ends_with("}\n"), "supergraph ends with a single trailing newline");
}

#[test]
fn input_order_does_not_change_the_output() {
    let expected = compose(&atrium_subgraphs()).expect("compose");
    let mut reversed = atrium_subgraphs();
    reversed.reverse();
    assert_eq!(compose(&reversed).expect("compose"), expected);
    let mut rotated = atrium_subgraphs();
    rotated.rotate_left(2);
    assert_eq!(compose(&rotated).expect("compose"), expected);
}
