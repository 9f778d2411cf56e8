//! A robot whose URDF draws links with meshes: an STL mesh (scaled, as robot descriptions give
//! millimetres) is logged as a rerun `Asset3D` at its link; a Collada visual, which rerun cannot
//! read, leaves its link drawn from the collision geometry with a note; a mesh file that is not
//! there is named, not silently dropped.

use std::path::{Path, PathBuf};

use asid_viz::{Sink, Viz, resolve_mesh, rrd_contents};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// A tetrahedron in ASCII STL (millimetres).
const STL: &str = "solid t
facet normal 0 0 -1
outer loop
vertex 0 0 0
vertex 40 0 0
vertex 0 40 0
endloop
endfacet
facet normal 0 -1 0
outer loop
vertex 0 0 0
vertex 0 0 40
vertex 40 0 0
endloop
endfacet
endsolid t
";

fn workspace() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("asid-viz-meshes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root.join("robots"), &dir.join("robots"));
    std::fs::create_dir_all(dir.join("scenes")).expect("scenes");
    std::fs::copy(root.join("scenes/rod.toml"), dir.join("scenes/rod.toml")).expect("scene");
    let panda = dir.join("robots/panda");
    std::fs::create_dir_all(panda.join("meshes")).expect("meshes");
    std::fs::write(panda.join("meshes/link3.stl"), STL).expect("stl");
    let urdf = panda.join("panda.urdf");
    let text = std::fs::read_to_string(&urdf).expect("urdf");
    let capsule3 = r#"<origin xyz="0 0 -0.145" rpy="0 0 0"/>
      <geometry><capsule radius="0.06" length="0.15"/></geometry>
      <material name="panda_white"/>"#;
    assert!(
        text.contains(capsule3),
        "panda_link3's visual as the test expects"
    );
    let text = text.replacen(
        capsule3,
        r#"<origin xyz="0 0 -0.145" rpy="0 0 0"/>
      <geometry><mesh filename="package://franka_description/meshes/link3.stl" scale="0.001 0.001 0.001"/></geometry>"#,
        1,
    );
    let text = text.replacen(
        r#"<visual name="panda_link4_visual_0">"#,
        r#"<visual name="panda_link4_visual_dae"><geometry><mesh filename="meshes/link4.dae"/></geometry></visual>
    <visual name="panda_link4_visual_0">"#,
        1,
    );
    let text = text.replacen(
        r#"<visual name="panda_link5_visual_0">"#,
        r#"<visual name="panda_link5_visual_lost"><geometry><mesh filename="meshes/gone.stl"/></geometry></visual>
    <visual name="panda_link5_visual_0">"#,
        1,
    );
    // Link 4's collision is a box, so the fallback is seen (its visual is a capsule).
    let collision4 = r#"<collision name="panda_link4_collision_0">
      <origin xyz="0 0 0" rpy="0 0 0"/>
      <geometry><capsule radius="0.06" length="0.12"/></geometry>"#;
    assert!(
        text.contains(collision4),
        "panda_link4's collision as the test expects"
    );
    let text = text.replacen(
        collision4,
        r#"<collision name="panda_link4_collision_0">
      <origin xyz="0 0 0" rpy="0 0 0"/>
      <geometry><box size="0.1 0.1 0.2"/></geometry>"#,
        1,
    );
    std::fs::write(&urdf, text).expect("urdf");
    dir
}

#[test]
fn meshes_are_drawn_where_rerun_reads_them() {
    let dir = workspace();
    let panda = dir.join("robots/panda");
    assert_eq!(
        resolve_mesh(&panda, "package://franka_description/meshes/link3.stl"),
        Some(panda.join("meshes/link3.stl"))
    );
    assert_eq!(resolve_mesh(&panda, "meshes/gone.stl"), None);
    // A package path stays inside the package: no parent steps, no absolute paths.
    assert_eq!(
        resolve_mesh(
            &panda,
            "package://franka_description/../panda/meshes/link3.stl"
        ),
        None
    );
    assert_eq!(
        resolve_mesh(&panda, "package://franka_description//etc/hostname"),
        None
    );
    assert_eq!(resolve_mesh(&panda, "package://franka_description"), None);

    let sim = asid_sim::Simulator::load(&dir.join("scenes/rod.toml")).expect("scene");
    let rrd = dir.join("view.rrd");
    let viz = Viz::new(sim.scene(), None, &Sink::Save(rrd.clone())).expect("viz");
    viz.flush().expect("flush");
    drop(viz);
    let view = rrd_contents(&rrd).expect("rrd");
    let entity = |p: &str| {
        view.get(p)
            .unwrap_or_else(|| panic!("{p}: {:?}", view.keys().collect::<Vec<_>>()))
    };
    let mesh = entity("world/robot/panda_link3/mesh_0");
    assert!(
        mesh.components
            .iter()
            .any(|c| c.starts_with("Asset3D:blob")),
        "{mesh:?}"
    );
    assert!(
        mesh.components.iter().any(|c| c.contains("scale")),
        "{mesh:?}"
    );
    assert!(
        !view.contains_key("world/robot/panda_link3/visual_0"),
        "the mesh replaces the capsule"
    );
    // The Collada visual: the link is drawn from its collision box (not its visual capsule), and
    // the file is named.
    let drawn = entity("world/robot/panda_link4/visual_0");
    assert!(
        drawn.components.iter().any(|c| c.starts_with("Boxes3D")),
        "{drawn:?}"
    );
    assert!(!view.contains_key("world/robot/panda_link4/visual_1"));
    let note = entity("world/robot/panda_link4/meshes");
    assert!(
        note.components.iter().any(|c| c.contains("TextDocument")),
        "{note:?}"
    );
    // A missing file: named at its entity, the link's primitives still drawn.
    let lost = entity("world/robot/panda_link5/mesh_0");
    assert!(
        lost.components.iter().any(|c| c.contains("TextDocument")),
        "{lost:?}"
    );
    assert!(view.contains_key("world/robot/panda_link5/visual_0"));
    let _ = std::fs::remove_dir_all(&dir);
}
