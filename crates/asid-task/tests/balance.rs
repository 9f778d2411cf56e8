//! The rod-balancing success rule on hand-made placements in the rod scene: a rod set on the perch
//! at its centre of mass (or within the perch's 1 cm width of it) stays up, level; set 8 mm or 3 cm
//! off it, it falls.

use std::path::Path;

use asid_task::balance::{BALANCED_TILT_DEG, Perch};

fn scene() -> asid_sim::Simulator {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenes/rod.toml");
    asid_sim::Simulator::load(&root).expect("rod scene")
}

/// Places the rod whose centre of mass sits `com_m` along its axis with the point `offset_m` over
/// the perch, and lets it settle for 2 s.
fn place(
    sim: &asid_sim::Simulator,
    com_m: f64,
    offset_m: f64,
) -> asid_task::balance::BalanceOutcome {
    let space = &sim.scene().space;
    let mut theta = space.nominal();
    theta[space.index_of("rod.com_offset").expect("com_offset")] = com_m;
    let mut world = sim.world(&theta).expect("world");
    let perch = Perch::of_scene(sim.scene(), "rod", "perch").expect("perch");
    perch
        .place_and_settle(&mut world, offset_m, 2.0)
        .expect("placement")
}

#[test]
fn a_rod_set_at_its_centre_of_mass_stays_up_and_three_cm_off_it_falls() {
    let sim = scene();
    for com_m in [0.0, 0.03, -0.045] {
        let at = place(&sim, com_m, com_m);
        println!("com {com_m:+.3} m, placed at it: {at:?}");
        assert!(at.success && at.tilt_deg < 1.0, "com {com_m}: {at:?}");
        // The perch is 1 cm across: a few millimetres off the centre of mass still balance...
        for off in [0.003, -0.003] {
            let o = place(&sim, com_m, com_m + off);
            println!("com {com_m:+.3} m, placed {off:+.3} m off: {o:?}");
            assert!(o.success, "com {com_m}, {off} m off: {o:?}");
        }
        // ... beyond the perch's edge it tips.
        for off in [0.008, -0.008, 0.03, -0.03] {
            let o = place(&sim, com_m, com_m + off);
            println!("com {com_m:+.3} m, placed {off:+.3} m off: {o:?}");
            // It tips: off the perch (lying on the table, often flat again) or leaning on it.
            assert!(
                !o.success && (!o.on_perch || o.tilt_deg > 3.0 * BALANCED_TILT_DEG),
                "com {com_m}, {off} m off: {o:?}"
            );
            assert_eq!(o.metric_deg(), if o.on_perch { o.tilt_deg } else { 90.0 });
        }
    }
}

#[test]
fn bad_placements_and_scenes_are_refused() {
    let sim = scene();
    let perch = Perch::of_scene(sim.scene(), "rod", "perch").expect("perch");
    let mut world = sim.world(&sim.scene().space.nominal()).expect("world");
    for (offset, settle) in [(f64::NAN, 1.0), (0.0, 0.0), (0.0, f64::INFINITY)] {
        assert!(perch.place_and_settle(&mut world, offset, settle).is_err());
    }
    let err = Perch::of_scene(sim.scene(), "rod", "shelf").expect_err("no shelf");
    assert!(err.to_string().contains("shelf"), "{err}");
    let err = Perch::of_scene(sim.scene(), "table_rod", "perch").expect_err("no such object");
    assert!(err.to_string().contains("table_rod"), "{err}");
}
