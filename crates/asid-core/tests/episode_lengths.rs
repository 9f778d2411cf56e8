//! Regression (found by the JSON-episode fuzz target): more observation times than observations
//! made the control-grid resampling index out of bounds.

#[test]
fn more_observation_times_than_observations_do_not_panic() {
    let text = r#"{"format":"asid-episode/1","scene":"s","control_period_s":0.1,"actions":[[0.0],[0.0],[0.0]],"t0_s":0.0,"channels":[{"kind":"object_position","of":"puck","dim":3}],"obs_t_s":[0.0,0.1,0.2,0.3],"obs":[[0.5,0.0,0.01],[0.51,null,0.01],[0.52,0.0,0.01]]}"#;
    let ep: asid_core::Episode = serde_json::from_str(text).expect("parses");
    let grid = ep.on_control_grid();
    assert_eq!(grid.len(), 4);
    assert_eq!(grid[3], vec![None; 3], "no observation at the fourth time");
}
