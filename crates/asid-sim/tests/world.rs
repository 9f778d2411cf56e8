//! End-to-end tests of the simulator: every scene, determinism, snapshots, parameters, batching.

mod common;

use asid_sim::{FdScheme, RolloutJob, SimError};
use common::{sim, wiggle};
use nalgebra::Vector3;

const SCENES: [&str; 6] = [
    "rod",
    "sphere",
    "multi_friction",
    "shuffleboard",
    "articulation",
    "payload",
];

#[test]
fn every_shipped_scene_builds_and_rolls_out() {
    for name in SCENES {
        let s = sim(name);
        let theta = s.scene().space.center();
        let actions = wiggle(&s, 0.3 * step_of(&s));
        let t = s
            .rollout(&theta, &actions)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.obs.len(), actions.len() + 1, "{name}");
        assert!(
            t.obs.iter().flatten().all(|v| v.is_finite()),
            "{name}: non-finite observation"
        );
        assert!(
            (t.t_s[actions.len()] - actions.len() as f64 * s.scene().control_period_s()).abs()
                < 1e-9
        );
    }
}

fn step_of(s: &asid_sim::Simulator) -> f64 {
    match &s.scene().spec.arm.action {
        asid_core::scene::ActionSpec::EeDeltaXy { max_step_m, .. }
        | asid_core::scene::ActionSpec::EeDeltaXyz { max_step_m, .. } => *max_step_m,
        asid_core::scene::ActionSpec::JointPosition { .. } => 0.0,
    }
}

#[test]
fn same_inputs_give_bit_identical_trajectories() {
    for name in ["rod", "payload", "articulation", "multi_friction"] {
        let s = sim(name);
        let theta = s.scene().space.center();
        let actions = wiggle(&s, 0.5 * step_of(&s));
        let a = s.rollout(&theta, &actions).expect("rollout");
        let b = s.rollout(&theta, &actions).expect("rollout");
        let bits = |t: &asid_sim::Trajectory| {
            t.obs
                .iter()
                .flatten()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b), "{name}: trajectories differ");
    }
}

#[test]
fn snapshot_restore_then_continue_equals_continue() {
    for name in ["rod", "payload", "articulation"] {
        let s = sim(name);
        let theta = s.scene().space.center();
        let actions = wiggle(&s, 0.5 * step_of(&s));
        let mut w = s.world(&theta).expect("world");
        let half = actions.len() / 2;
        for a in &actions[..half] {
            w.step_control(a).expect("step");
        }
        let snap = w.snapshot();
        let mut straight = Vec::new();
        for a in &actions[half..] {
            w.step_control(a).expect("step");
            straight.push(w.observe());
        }
        // Disturb, then restore and continue.
        w.step_control(&actions[0]).expect("step");
        w.restore(&snap);
        let mut resumed = Vec::new();
        for a in &actions[half..] {
            w.step_control(a).expect("step");
            resumed.push(w.observe());
        }
        assert_eq!(
            straight, resumed,
            "{name}: restore + continue differs from continue"
        );
    }
}

#[test]
fn rollouts_in_parallel_keep_input_order() {
    let s = sim("shuffleboard");
    let actions = wiggle(&s, 0.05);
    let jobs: Vec<RolloutJob> = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
        .iter()
        .map(|mu| RolloutJob {
            theta: vec![*mu, 0.008],
            actions: actions.clone(),
        })
        .collect();
    let batch = s.rollouts(&jobs);
    for (job, got) in jobs.iter().zip(batch) {
        let serial = s.rollout(&job.theta, &job.actions).expect("serial");
        assert_eq!(got.expect("parallel"), serial);
    }
}

#[test]
fn a_more_off_centre_rod_turns_differently() {
    let s = sim("rod");
    // Push the rod's middle straight ahead.
    let actions: Vec<Vec<f64>> = (0..20).map(|_| vec![0.015, 0.0]).collect();
    let yaw_after = |com: f64| {
        let t = s.rollout(&[com, 0.2], &actions).expect("rollout");
        let last = t.obs.last().expect("obs");
        // object_pose of the rod follows ee_position: [ee(3), p(3), q(4)]
        let (w, z) = (last[6], last[9]);
        2.0 * z.atan2(w)
    };
    let centred = yaw_after(0.0);
    let left = yaw_after(-0.05);
    let right = yaw_after(0.05);
    assert!(
        centred.abs() < 0.05,
        "a centred rod pushed at its middle barely turns: {centred}"
    );
    assert!(
        left * right < 0.0,
        "off-centre rods turn opposite ways: {left} vs {right}"
    );
    assert!(
        left.abs() > 0.1 && right.abs() > 0.1,
        "off-centre rods turn: {left}, {right}"
    );
}

#[test]
fn rod_friction_changes_the_motion() {
    let s = sim("rod");
    let actions: Vec<Vec<f64>> = (0..20).map(|_| vec![0.015, 0.0]).collect();
    let friction = |mu: f64| s.rollout(&[0.03, mu], &actions).expect("rollout");
    // Higher friction (same weight) resists turning of an off-centre rod: the paths differ.
    let a = friction(0.1);
    let b = friction(0.6);
    let diff: f64 = a
        .obs
        .last()
        .zip(b.obs.last())
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()).sum())
        .unwrap_or(0.0);
    assert!(diff > 1e-3, "friction changes the motion: {diff}");
}

#[test]
fn a_sliding_puck_stops_after_v2_over_2_mu_g() {
    let mut s = sim("shuffleboard");
    let v0 = 1.0;
    s.start_mut()
        .set_object_velocity("puck", Vector3::new(v0, 0.0, 0.0), Vector3::zeros())
        .expect("puck is free");
    let hold: Vec<Vec<f64>> = vec![vec![0.0, 0.0]; 10];
    for mu in [0.2, 0.3, 0.5] {
        let t = s.rollout(&[mu, 0.008], &hold).expect("rollout");
        let x0 = t.obs[0][0];
        let x1 = t.obs.last().expect("obs")[0];
        let expected = v0 * v0 / (2.0 * mu * 9.81);
        let got = x1 - x0;
        assert!(
            ((got - expected) / expected).abs() < 0.05,
            "mu {mu}: slid {got} m, expected {expected} m"
        );
    }
}

#[test]
fn puck_sensitivity_matches_the_analytic_derivative() {
    // The shipped contact settings: the planar friction model makes the slide smooth in the friction.
    let mut scene = asid_core::load_scene(&common::scene_path("shuffleboard")).expect("scene");
    scene.space.params[0].fd_step = 0.02;
    let mut s = asid_sim::Simulator::new(scene).expect("simulator");
    let v0 = 1.0;
    s.start_mut()
        .set_object_velocity("puck", Vector3::new(v0, 0.0, 0.0), Vector3::zeros())
        .expect("puck is free");
    let hold: Vec<Vec<f64>> = vec![vec![0.0, 0.0]; 10];
    let mu = 0.3;
    let sens = s
        .trajectory_sensitivity(&[mu, 0.008], &hold)
        .expect("sensitivity");
    let got = sens.jacobians.last().expect("jac")[(0, 0)];
    let expected = -v0 * v0 / (2.0 * mu * mu * 9.81);
    assert!(
        ((got - expected) / expected).abs() < 0.05,
        "d x / d mu = {got}, analytic {expected}"
    );
    // Near the upper bound the difference is one-sided with the true step.
    let sens = s
        .trajectory_sensitivity(&[0.99, 0.008], &hold)
        .expect("sensitivity");
    assert_eq!(sens.schemes[0], asid_sim::FdScheme::Backward);
    assert!((sens.steps[0] + 0.02).abs() < 1e-12);
    let got = sens.jacobians.last().expect("jac")[(0, 0)];
    let expected = -v0 * v0 / (2.0 * 0.99f64.powi(2) * 9.81);
    assert!(
        ((got - expected) / expected).abs() < 0.1,
        "near the bound: {got} vs {expected}"
    );
}

#[test]
fn step_sensitivities_are_consistent_with_trajectory_sensitivities_at_the_first_touched_step() {
    let s = sim("rod");
    let theta = s.scene().space.center();
    let actions: Vec<Vec<f64>> = (0..6).map(|_| vec![0.05, 0.0]).collect();
    let a = s
        .trajectory_sensitivity(&theta, &actions)
        .expect("trajectory");
    let b = s.step_sensitivity(&theta, &actions).expect("per step");
    // Until the pusher touches the rod neither depends on the parameters; at the first touched
    // step both start from the same state (the nominal's) and run one step: they agree.
    let k = a.untouched.as_ref().map_or(0, |u| u.steps());
    assert!(k < actions.len(), "the push reaches the rod");
    for h in 0..k {
        assert_eq!(a.jacobians[h].amax(), 0.0);
        assert_eq!(b.jacobians[h].amax(), 0.0);
    }
    assert!(a.jacobians[k].amax() > 1e-3, "{}", a.jacobians[k]);
    assert!((&a.jacobians[k] - &b.jacobians[k]).amax() < 1e-9);
    assert_eq!(a.nominal, b.nominal);
}

#[test]
fn bad_parameter_vectors_and_actions_are_refused() {
    let s = sim("rod");
    let err = s.rollout(&[0.5, 0.2], &[]).expect_err("out of bounds");
    assert!(matches!(err, SimError::Param(_)), "{err}");
    assert!(err.to_string().contains("rod.com_offset"), "{err}");
    let theta = s.scene().space.center();
    let err = s
        .rollout(&theta, &[vec![0.2, 0.0]])
        .expect_err("too long a step");
    assert!(err.to_string().contains("outside [-0.075, 0.075]"), "{err}");
    let err = s.rollout(&theta, &[vec![0.0]]).expect_err("wrong length");
    assert!(matches!(
        err,
        SimError::ActionLength {
            got: 1,
            expected: 2
        }
    ));
    let err = s
        .rollout(&theta, &vec![vec![-0.075, 0.0]; 5])
        .expect_err("leaves the workspace");
    assert!(matches!(err, SimError::Workspace { axis: 0, .. }), "{err}");
}

#[test]
fn inertia_sets_how_long_a_spinning_puck_keeps_turning() {
    // A spinning puck is slowed by torques that do not depend on its inertia (torsional friction,
    // contact friction), so the angle it sweeps before stopping, w0^2 / (2 alpha), grows with inertia.
    // (w0 is kept low enough that both sweeps stay below pi: the yaw read back wraps there.)
    let text = std::fs::read_to_string(common::scene_path("shuffleboard")).expect("scene")
        + "\n[[parameter]]\ntarget = \"puck.inertia_scale\"\nprior = { kind = \"uniform\", low = 0.5, high = 2.5 }\nbounds = [0.5, 3.0]\nfd_step = 0.05\n";
    let path = common::write_scene_variant("shuffleboard", &text);
    let mut s = asid_sim::Simulator::load(&path).expect("variant");
    s.start_mut()
        .set_object_velocity("puck", Vector3::zeros(), Vector3::new(0.0, 0.0, 10.0))
        .expect("free");
    let hold: Vec<Vec<f64>> = vec![vec![0.0, 0.0]; 10];
    let swept = |scale: f64| {
        let mut w = s.world(&[0.3, 0.008, scale]).expect("world");
        for a in &hold {
            w.step_control(a).expect("step");
        }
        let (_, _, yaw) = w.object_pose("puck").expect("puck").rotation.euler_angles();
        yaw.abs()
    };
    let (one, two) = (swept(1.0), swept(2.0));
    assert!(one > 0.1, "the puck turns: {one} rad");
    assert!(
        (two / one - 2.0).abs() < 0.3,
        "twice the inertia sweeps about twice the angle: {one} vs {two}"
    );
    let _ = std::fs::remove_dir_all(
        path.parent()
            .and_then(|p| p.parent())
            .expect("variant tree"),
    );
}

#[test]
fn a_sensitivity_around_a_given_nominal_equals_the_full_one_and_costs_fewer_rollouts() {
    let s = sim("rod");
    let actions: Vec<Vec<f64>> = (0..6).map(|_| vec![0.05, 0.0]).collect();
    let horizon = actions.len() as u64;
    // Centre (central differences) and the upper bound of the centre of mass (a backward one,
    // whose other side is the nominal itself).
    for theta in [s.scene().space.center(), vec![0.06, 0.3]] {
        let before = s.control_steps();
        let full = s
            .trajectory_sensitivity_scaled(&theta, &actions, 2.0)
            .expect("full");
        let full_steps = s.control_steps() - before;
        let before = s.control_steps();
        let shared = s
            .trajectory_sensitivity_around(&theta, &actions, 2.0, Some(&full.nominal_rollout()))
            .expect("around the nominal");
        let shared_steps = s.control_steps() - before;
        assert_eq!(shared.jacobians, full.jacobians, "theta {theta:?}");
        assert_eq!(shared.nominal, full.nominal);
        assert_eq!(shared.steps, full.steps);
        let one_sided = full
            .schemes
            .iter()
            .filter(|&&k| k == FdScheme::Forward || k == FdScheme::Backward)
            .count() as u64;
        let central = full
            .schemes
            .iter()
            .filter(|&&k| k == FdScheme::Central)
            .count() as u64;
        // Each perturbed rollout runs from the nominal's last untouched step.
        let untouched = full.untouched.as_ref().map_or(0, |u| u.steps()) as u64;
        let perturbed = (2 * central + one_sided) * (horizon - untouched);
        assert_eq!(full_steps, horizon + perturbed, "theta {theta:?}");
        assert_eq!(shared_steps, perturbed, "theta {theta:?}");
    }
}
