//! Gripper fingers: they move at the commanded speed, stop on an object both touch, hold it only
//! for a grasp, refuse values outside the gripper's range and replay bit-identically.

mod common;

use asid_sim::{SimError, Simulator};

/// The payload scene's Franka Hand (kinematic arm, payload left out) with a standing rod 3 cm
/// across at the fingers when `rod` is true.
fn world(rod: bool) -> asid_sim::SimWorld {
    let text = std::fs::read_to_string(common::scene_path("payload")).expect("payload scene");
    let mut text = text
        .replace("model = \"dynamic\"", "model = \"kinematic\"")
        .replace("gripper_width_m = 0.06", "gripper_width_m = 0.08")
        .replace(
            "start_xyz_m = [0.45, 0.0, 0.40]",
            "start_xyz_m = [0.45, 0.0, 0.045]",
        )
        .replace("[0.2, 0.5]]", "[0.02, 0.5]]")
        .replace("kind = \"joint_torque\"", "kind = \"joint_velocity\"");
    // The held payload becomes a free cube resting far from the hand; the rod (if any) stands at
    // the tool centre point.
    text = text.replace(
        "pose = { xyz_m = [0.0, 0.0, 0.01] }\nmass_kg = 0.5\nattach = \"tool\"",
        "pose = { xyz_m = [0.65, 0.2, 0.03] }\nmass_kg = 0.5",
    );
    // The scene's task carries the held payload; this variant holds nothing.
    if let Some(i) = text.find("\n[task]") {
        text.truncate(i + 1);
    }
    if rod {
        text.push_str(
            "\n[[object]]\nname = \"rod\"\nshape = { kind = \"cylinder\", radius_m = 0.015, \
             half_height_m = 0.035 }\npose = { xyz_m = [0.45, 0.0, 0.035] }\nmass_kg = 0.1\n",
        );
    }
    let path = common::write_scene_variant("fingers", &text);
    let sim = Simulator::load(&path).unwrap_or_else(|e| panic!("{e}"));
    sim.world(&sim.scene().space.nominal()).expect("world")
}

#[test]
fn fingers_move_at_their_speed_and_stop_at_the_target() {
    let mut w = world(false);
    let g = w.gripper().expect("the hand has fingers");
    assert!((g.width_m - 0.08).abs() < 1e-12 && !g.moving);
    w.set_gripper_target(0.05, 0.05, None).expect("move");
    w.hold(100); // 0.2 s at 2 ms: 1 cm
    let g = w.gripper().expect("fingers");
    assert!((g.width_m - 0.07).abs() < 1e-9 && g.moving, "{g:?}");
    w.hold(300);
    let g = w.gripper().expect("fingers");
    assert!((g.width_m - 0.05).abs() < 1e-12 && !g.moving, "{g:?}");
    assert_eq!(g.blocked_by, None);
}

#[test]
fn fingers_stop_on_the_rod_and_only_a_grasp_holds_it() {
    let mut w = world(true);
    w.set_gripper_target(0.0, 0.1, None).expect("move");
    w.hold(500);
    let g = w.gripper().expect("fingers");
    assert!((g.width_m - 0.03).abs() < 2e-4, "{g:?}");
    assert_eq!(g.blocked_by.as_deref(), Some("rod"));
    assert_eq!(g.held, None, "a move does not hold");
    w.set_gripper_target(0.0, 0.1, Some(20.0)).expect("grasp");
    w.hold(5);
    assert_eq!(w.gripper().expect("fingers").held.as_deref(), Some("rod"));
    let before = w.snapshot();
    w.set_gripper_target(0.06, 0.1, None).expect("open");
    assert_eq!(w.gripper().expect("fingers").held, None, "opening releases");
    // Determinism: the same commands from the same state give the same fingers and rod.
    w.hold(50);
    let (a, pa) = (w.gripper(), w.object_pose("rod"));
    w.restore(&before);
    w.set_gripper_target(0.06, 0.1, None).expect("open");
    w.hold(50);
    assert_eq!((w.gripper(), w.object_pose("rod")), (a, pa));
    w.stop_gripper();
    assert!(!w.gripper().expect("fingers").moving);
}

#[test]
fn values_outside_the_gripper_range_are_refused_and_change_nothing() {
    let mut w = world(false);
    let before = w.gripper();
    for (width, speed, force, what) in [
        (0.09, 0.05, None, "width"),
        (-0.01, 0.05, None, "width"),
        (0.04, 0.0, None, "speed"),
        (0.04, f64::NAN, None, "speed"),
        (0.04, 0.05, Some(71.0), "force"),
    ] {
        match w.set_gripper_target(width, speed, force) {
            Err(SimError::Gripper(text)) => assert!(text.contains(what), "{text}"),
            other => panic!("{width} m, {speed} m/s, {force:?} N: {other:?}"),
        }
    }
    w.hold(10);
    assert_eq!(w.gripper(), before);
}
