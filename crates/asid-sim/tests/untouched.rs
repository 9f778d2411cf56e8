//! Perturbed rollouts share the nominal's untouched start: the same sensitivities (to the settling
//! of a resting object) for fewer simulated steps, and only where the parameters wait for a touch.

mod common;

use asid_sim::{FdScheme, Simulator};
use nalgebra::{DMatrix, Vector3};

/// Central differences with every rollout from the beginning (what the shared start replaces).
fn from_the_start(sim: &Simulator, theta: &[f64], actions: &[Vec<f64>]) -> Vec<DMatrix<f64>> {
    let obs = sim.scene().obs_dim();
    let mut jac = vec![DMatrix::zeros(obs, theta.len()); actions.len()];
    for i in 0..theta.len() {
        let h = sim.scene().space.params[i].fd_step;
        let (mut plus, mut minus) = (theta.to_vec(), theta.to_vec());
        plus[i] += h;
        minus[i] -= h;
        let p = sim.rollout(&plus, actions).expect("plus");
        let m = sim.rollout(&minus, actions).expect("minus");
        for (k, j) in jac.iter_mut().enumerate() {
            for r in 0..obs {
                j[(r, i)] = (p.obs[k + 1][r] - m.obs[k + 1][r]) / (2.0 * h);
            }
        }
    }
    jac
}

fn largest(j: &[DMatrix<f64>]) -> f64 {
    j.iter().map(|m| m.abs().max()).fold(0.0, f64::max)
}

/// The shuffleboard's pusher (start x 0.38 m, tool tip 1 cm ahead of the flange's line) reaches the
/// puck (centre 0.5 m, radius 4 cm) after about 7 cm: `idle` steps that stop short of it, then a
/// push at 0.5 m/s that stops and lets the puck slide out.
fn push_after(idle: usize) -> Vec<Vec<f64>> {
    let mut a = vec![vec![0.01, 0.0]; idle];
    a.extend(vec![vec![0.05, 0.0]; 4]);
    a.extend(vec![vec![0.0, 0.0]; 3]);
    a
}

#[test]
fn perturbed_rollouts_start_where_the_nominal_was_last_untouched() {
    let s = common::sim("shuffleboard");
    assert!(s.params_wait_for_touch());
    let theta = s.scene().space.center();
    let actions = push_after(5);
    let horizon = actions.len() as u64;
    let before = s.control_steps();
    let shared = s
        .trajectory_sensitivity(&theta, &actions)
        .expect("sensitivity");
    let steps = s.control_steps() - before;
    let untouched = shared
        .untouched
        .as_ref()
        .expect("an untouched start")
        .steps() as u64;
    // The idle steps move the tool 5 cm, short of the puck; the push reaches it.
    assert!((5..horizon).contains(&untouched), "untouched {untouched}");
    let central = shared
        .schemes
        .iter()
        .filter(|&&k| k == FdScheme::Central)
        .count() as u64;
    assert_eq!(central, 2);
    assert_eq!(steps, horizon + 2 * central * (horizon - untouched));
    // The same sensitivities as rollouts from the beginning, to a resting puck's settling.
    let full = from_the_start(&s, &theta, &actions);
    let scale = largest(&full);
    assert!(scale > 0.05, "the push informs: {scale}");
    for (h, (a, b)) in shared.jacobians.iter().zip(&full).enumerate() {
        let gap = (a - b).abs().max();
        assert!(gap <= 1e-6 * scale, "step {h}: {gap} against {scale}");
    }
    // Before the touch nothing depends on the parameters.
    for j in &shared.jacobians[..untouched as usize] {
        assert_eq!(j.abs().max(), 0.0);
    }
}

#[test]
fn a_plan_that_touches_nothing_costs_only_its_nominal() {
    let s = common::sim("rod");
    let theta = s.scene().space.center();
    // Away from the rod and back, inside the workspace.
    let actions: Vec<Vec<f64>> = (0..8)
        .map(|k| vec![0.0, if k < 4 { 0.02 } else { -0.02 }])
        .collect();
    let before = s.control_steps();
    let sens = s
        .trajectory_sensitivity(&theta, &actions)
        .expect("sensitivity");
    assert_eq!(s.control_steps() - before, actions.len() as u64);
    assert_eq!(
        sens.untouched.as_ref().map(|u| u.steps()),
        Some(actions.len())
    );
    assert_eq!(largest(&sens.jacobians), 0.0);
    // From the beginning the same plan tells only the rod's settling (micrometres).
    let full = from_the_start(&s, &theta, &actions);
    assert!(largest(&full) < 0.05, "{}", largest(&full));
}

#[test]
fn the_rods_shared_start_leaves_out_only_its_settling() {
    let s = common::sim("rod");
    let theta = s.scene().space.center();
    let actions: Vec<Vec<f64>> = (0..10).map(|_| vec![0.03, 0.0]).collect();
    let shared = s
        .trajectory_sensitivity(&theta, &actions)
        .expect("sensitivity");
    let untouched = shared.untouched.as_ref().map_or(0, |u| u.steps());
    assert!(untouched >= 1, "the pusher starts away from the rod");
    let full = from_the_start(&s, &theta, &actions);
    let scale = largest(&full);
    let gap = shared
        .jacobians
        .iter()
        .zip(&full)
        .map(|(a, b)| (a - b).abs().max())
        .fold(0.0, f64::max);
    // The centre of mass moves the resting rod's weight between its supports by micrometres.
    assert!(gap <= 0.01 * scale, "{gap} against {scale}");
}

#[test]
fn parameters_that_act_before_a_touch_are_never_deferred() {
    // A hinge's damping, friction and presence; a payload held by the tool.
    for scene in ["articulation", "payload"] {
        let s = common::sim(scene);
        assert!(!s.params_wait_for_touch(), "{scene}");
        let theta = s.scene().space.center();
        let actions = vec![vec![0.0; s.scene().spec.arm.action.dim(s.arm().dof())]; 3];
        let sens = s
            .trajectory_sensitivity(&theta, &actions)
            .expect("sensitivity");
        assert!(sens.untouched.is_none(), "{scene}");
    }
}

#[test]
fn a_hinged_lids_mass_acts_without_a_touch() {
    // The lid alone, with its mass as the only unknown: a joint holds it (and turns off its
    // contacts with the base), so its mass can tip it with nothing touching it.
    let text = std::fs::read_to_string(common::scene_path("articulation")).expect("scene");
    let cut = text.find("[[parameter]]").expect("parameters");
    let variant = format!(
        "{}[[parameter]]\ntarget = \"lid.mass\"\nprior = {{ kind = \"uniform\", low = 0.3, high = 0.5 }}\nbounds = [0.1, 1.0]\nfd_step = 0.01\n",
        &text[..cut]
    );
    let path = common::write_scene_variant("articulation", &variant);
    let s = Simulator::load(&path).expect("variant");
    assert!(!s.params_wait_for_touch());
    // The rod's centre of mass and friction do wait: the control for the same check.
    assert!(common::sim("rod").params_wait_for_touch());
}

#[test]
fn an_object_that_moves_on_its_own_is_not_untouched() {
    let mut s = common::sim("shuffleboard");
    s.start_mut()
        .set_object_velocity("puck", Vector3::new(0.3, 0.0, 0.0), Vector3::zeros())
        .expect("velocity");
    let theta = s.scene().space.center();
    let actions = push_after(5);
    let sens = s
        .trajectory_sensitivity(&theta, &actions)
        .expect("sensitivity");
    assert!(sens.untouched.is_none());
    let full = from_the_start(&s, &theta, &actions);
    assert_eq!(sens.jacobians, full);
}
