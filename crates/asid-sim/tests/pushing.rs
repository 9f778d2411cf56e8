//! Planar sliding under pushes: the simulator against the quasi-static pusher-slider reference on
//! the same pusher path (rod on corner support; the puck on its footprint).

mod common;

use asid_core::scene::SupportKind;
use asid_sim::push_case::{PushCase, run_reference, run_sim};

fn case(offset_m: f64, params: &[(&str, f64)]) -> PushCase {
    PushCase {
        offset_m,
        speed_m_s: 0.1,
        travel_m: 0.12,
        params: params.iter().map(|(n, v)| ((*n).to_string(), *v)).collect(),
        support: Some(SupportKind::Corners),
    }
}

fn compare(scene: &str, object: &str, c: &PushCase, tolerance_deg: f64) -> (f64, f64) {
    let sim = common::sim(scene);
    let (out, path) = run_sim(&sim, object, c).expect("sim push");
    let reference = run_reference(&sim, object, c, &path, 200).expect("reference push");
    eprintln!(
        "{scene} offset {:.3} {:?}: asid {:.1} deg ({:.3}, {:.3}) m, reference {:.1} deg ({:.3}, {:.3}) m",
        c.offset_m,
        c.params,
        out.yaw_deg,
        out.dx_m,
        out.dy_m,
        reference.yaw_deg,
        reference.dx_m,
        reference.dy_m
    );
    assert!(
        (out.yaw_deg - reference.yaw_deg).abs() <= tolerance_deg,
        "{scene} offset {} {:?}: asid {:.1} deg, reference {:.1} deg",
        c.offset_m,
        c.params,
        out.yaw_deg,
        reference.yaw_deg
    );
    (out.yaw_deg, reference.yaw_deg)
}

#[test]
fn rod_on_corners_turns_as_the_reference_for_every_offset() {
    let mut turned = Vec::new();
    for offset in [0.0, 0.01, 0.03, 0.1] {
        turned.push(compare(
            "rod",
            "rod",
            &case(offset, &[("rod.friction", 0.25), ("rod.com_offset", 0.0)]),
            2.0,
        ));
    }
    // The comparison has teeth: off-centre pushes turn the rod by tens of degrees.
    assert!(turned[1].1.abs() > 15.0, "{turned:?}");
    assert!(turned[0].1.abs() < 1.0, "{turned:?}");
}

#[test]
fn rod_with_offset_centre_of_mass_turns_as_the_reference() {
    compare(
        "rod",
        "rod",
        &case(0.01, &[("rod.friction", 0.25), ("rod.com_offset", 0.03)]),
        2.0,
    );
}

#[test]
fn puck_slides_and_turns_as_the_reference() {
    let mut c = case(
        0.02,
        &[("puck.friction", 0.3), ("puck.torsional_friction", 0.008)],
    );
    c.support = Some(SupportKind::Footprint);
    compare("shuffleboard", "puck", &c, 2.5);
}
