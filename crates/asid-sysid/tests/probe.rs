use std::path::PathBuf;
#[test]
fn probe() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenes/shuffleboard.toml");
    let sim = asid_sim::Simulator::load(&p).unwrap();
    let ep = asid_core::Episode::read(std::path::Path::new("/tmp/ep0.json")).unwrap();
    let data = asid_sysid::dataset(sim.scene(), &[("e".into(), ep)], None).unwrap();
    let prob = asid_sysid::SysIdProblem { model: &sim, data: &data, fixed: vec![0.31, 0.011], free: vec![0, 1], center: vec![0.3, 0.011], scale: vec![0.1155, 0.0052], loss: asid_sysid::Loss::Squared, counter: Default::default() };
    for (a, b) in [(0.31, 0.011), (0.311174, 0.011882), (0.3105, 0.011), (0.31, 0.0115), (0.309, 0.011), (0.31, 0.0105)] {
        let r = prob.residuals_at(&[a, b]).unwrap();
        println!("{a} {b}: chi2 {}", r.iter().map(|v| v * v).sum::<f64>());
    }
}
