//! Orientation residuals through the log map: a puck turning through 180 degrees (where the
//! canonical quaternion sign flips) gives continuous residuals and Jacobians, and resampling onto
//! the control grid interpolates rotations the short way round.

use asid_core::scene::ChannelKind;
use asid_core::{ChannelLayout, Episode, Param, ParamSpace, ParamTarget, Prior};
use asid_sysid::data::on_grid;
use asid_sysid::{Dataset, Drive, Replay, ReplayModel, RotationTerm, SysIdProblem};
use nalgebra::{DMatrix, UnitQuaternion};

/// Yaw in degrees as canonical `[w, x, y, z]` (w >= 0), like the simulator observes it.
fn canonical(deg: f64) -> [f64; 4] {
    let q = UnitQuaternion::from_euler_angles(0.0, 0.0, deg.to_radians());
    let c = q.quaternion();
    let s = if c.w < 0.0 { -1.0 } else { 1.0 };
    [s * c.w, s * c.i, s * c.j, s * c.k]
}

/// A puck that turns by `theta` degrees per step from 150 degrees: `[x, y, z, w, qx, qy, qz]`.
struct Turning {
    space: ParamSpace,
}

const STEPS: usize = 12;

fn pose_row(deg: f64) -> Vec<f64> {
    let mut row = vec![0.5, 0.0, 0.02];
    row.extend(canonical(deg));
    row
}

impl ReplayModel for Turning {
    fn space(&self) -> &ParamSpace {
        &self.space
    }
    fn simulate(&self, theta: &[f64], actions: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, String> {
        Ok((0..=actions.len())
            .map(|h| pose_row(150.0 + theta[0] * h as f64))
            .collect())
    }
    fn sensitivities(
        &self,
        theta: &[f64],
        actions: &[Vec<f64>],
    ) -> Result<asid_sysid::model::Sensitivities, String> {
        // Derivative of the quaternion along the nominal's sign (as the contract says).
        let obs = self.simulate(theta, actions)?;
        let jacs = (1..=actions.len())
            .map(|h| {
                let deg = 150.0 + theta[0] * h as f64;
                let (a, b) = (canonical(deg), canonical(deg + 1e-4));
                let sign = if a.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>() < 0.0 {
                    -1.0
                } else {
                    1.0
                };
                DMatrix::from_fn(7, 1, |r, _| {
                    if r < 3 {
                        0.0
                    } else {
                        (sign * b[r - 3] - a[r - 3]) / 1e-4 * h as f64
                    }
                })
            })
            .collect();
        Ok((obs, jacs))
    }
}

#[test]
fn a_turn_through_180_degrees_gives_continuous_rotation_residuals() {
    let model = Turning {
        space: ParamSpace {
            params: vec![Param {
                name: "rate".into(),
                target_path: "rate".into(),
                target: ParamTarget::TableFriction,
                prior: Prior::Uniform {
                    low: 1.0,
                    high: 20.0,
                },
                bounds: [1.0, 20.0],
                fd_step: 0.1,
                nominal: 5.0,
            }],
        },
    };
    // Recorded: the true rate 6 degrees per step plus a constant 0.5 degree offset, so the turn
    // passes 180 degrees (and the canonical sign flips) at a different step than the model's.
    let recorded: Vec<Vec<Option<f64>>> = (0..=STEPS)
        .map(|h| {
            pose_row(150.5 + 6.0 * h as f64)
                .into_iter()
                .map(Some)
                .collect()
        })
        .collect();
    let sigma_rad = 0.01;
    let data = Dataset {
        replays: vec![Replay {
            source: "turn".into(),
            actions: vec![vec![0.0]; STEPS],
            recorded,
            joint_path: None,
        }],
        entries: vec![0, 1, 2],
        sigmas: vec![0.005; 3],
        rotations: vec![RotationTerm {
            entry: 3,
            sigma_rad,
        }],
        drive: Drive::Commanded,
        total: 6 * STEPS,
        skipped: 0,
    };
    let problem = SysIdProblem {
        model: &model,
        data: &data,
        fixed: vec![6.0],
        free: vec![0],
        center: vec![6.0],
        scale: vec![1.0],
        loss: asid_sysid::Loss::Squared,
        counter: Default::default(),
    };
    let (r, j) = problem
        .residuals_and_jacobian_at(&[6.0])
        .expect("residuals");
    assert_eq!(r.len(), 6 * STEPS);
    let expected = -0.5f64.to_radians() / sigma_rad;
    for h in 0..STEPS {
        let z = r[6 * h + 5];
        assert!(
            (z - expected).abs() < 1e-6,
            "step {}: yaw residual {z}, expected {expected} (a sign flip shows as a jump of ~2/sigma)",
            h + 1
        );
        // d residual / d rate = -(step) degrees per unit rate... in radians over sigma.
        let d = j[(6 * h + 5, 0)];
        let want = (h + 1) as f64 * 1f64.to_radians() / sigma_rad;
        assert!(
            (d - want).abs() < 1e-3 * want,
            "step {}: Jacobian {d}, expected {want}",
            h + 1
        );
    }
}

#[test]
fn resampling_slerps_rotations_the_short_way() {
    // Two samples 20 degrees apart across 180 degrees, with opposite canonical signs.
    let row = |deg: f64| -> Vec<Option<f64>> { pose_row(deg).into_iter().map(Some).collect() };
    let ep = Episode {
        format: asid_core::EPISODE_FORMAT.into(),
        scene: "turn".into(),
        control_period_s: 0.1,
        actions: vec![vec![0.0]; 1],
        t0_s: 0.05,
        channels: vec![ChannelLayout {
            kind: ChannelKind::ObjectPose,
            of: Some("puck".into()),
            dim: 7,
        }],
        obs_t_s: vec![0.0, 0.2],
        obs: vec![row(170.0), row(190.0)],
        meta: Default::default(),
    };
    let grid = on_grid(&ep, &[3]);
    let q: [f64; 4] = std::array::from_fn(|k| grid[0][3 + k].expect("value"));
    let yaw = UnitQuaternion::from_quaternion(nalgebra::Quaternion::new(q[0], q[1], q[2], q[3]));
    let err = asid_sysid::rotation::error(
        &UnitQuaternion::from_euler_angles(0.0, 0.0, 175f64.to_radians()),
        &yaw,
    );
    assert!(
        err.norm() < 1e-9,
        "at a quarter of the way the yaw is 175 degrees, error {err}"
    );
}
