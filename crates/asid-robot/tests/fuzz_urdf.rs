//! Fuzz target (see `asid_core::fuzz`): URDF parsing, its checks and the chain extraction.

use std::path::Path;

#[test]
fn fuzz_urdf() {
    // A small URDF as the seed: the shipped arms are large and slow to mutate a million times.
    let seed = br#"<robot name="r">
  <link name="a"><inertial><origin xyz="0 0 0.1"/><mass value="1"/><inertia ixx="1" ixy="0" ixz="0" iyy="1" iyz="0" izz="1"/></inertial></link>
  <link name="b"/><link name="c"/>
  <joint name="j1" type="revolute"><parent link="a"/><child link="b"/><origin xyz="0 0 0.3" rpy="0 1.57 0"/><axis xyz="0 0 1"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>
  <joint name="j2" type="fixed"><parent link="b"/><child link="c"/></joint>
</robot>"#
        .to_vec();
    let f = Path::new("fuzz.urdf");
    let names = vec!["j1".to_string()];
    asid_core::fuzz::run("urdf", &[seed], |b| {
        if let Ok(t) = std::str::from_utf8(b)
            && let Ok(robot) = asid_robot::parse_urdf(f, t)
        {
            let _ = asid_robot::Chain::from_robot(f, &robot, "a", "c", &names);
        }
    });
}
