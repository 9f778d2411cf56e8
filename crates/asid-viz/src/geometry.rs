//! Shapes as rerun archetypes: the scene's shapes (table, static geometry, objects, tool) and the
//! robot's links from its URDF (visual geometry, else collision): primitives, and meshes in the
//! formats rerun reads from one file (STL, OBJ, GLB); a link whose visual meshes rerun cannot read
//! (the Collada `.dae` of many robot descriptions) is drawn from its collision geometry instead.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use asid_core::Shape;
use nalgebra::{Isometry3, Translation3, UnitQuaternion};
use rerun::RecordingStream;

use crate::VizError;

/// A rerun position.
pub fn v3(p: &nalgebra::Vector3<f64>) -> [f32; 3] {
    [p.x as f32, p.y as f32, p.z as f32]
}

/// A rerun rotation.
pub fn quat(q: &UnitQuaternion<f64>) -> rerun::Quaternion {
    rerun::Quaternion::from_xyzw([q.i as f32, q.j as f32, q.k as f32, q.w as f32])
}

/// The transform of an entity at `pose`.
pub fn transform(pose: &Isometry3<f64>) -> rerun::Transform3D {
    rerun::Transform3D::from_translation_rotation(
        v3(&pose.translation.vector),
        quat(&pose.rotation),
    )
}

/// A pose from URDF's xyz / rpy.
pub fn pose_xyz_rpy(xyz: [f64; 3], rpy: [f64; 3]) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::new(xyz[0], xyz[1], xyz[2]),
        UnitQuaternion::from_euler_angles(rpy[0], rpy[1], rpy[2]),
    )
}

/// Logs `shape` at `path` (static), placed at `pose` in the entity's frame, in `color`.
pub fn log_shape(
    rec: &RecordingStream,
    path: &str,
    shape: &Shape,
    pose: &Isometry3<f64>,
    color: [u8; 3],
) -> Result<(), VizError> {
    let c = v3(&pose.translation.vector);
    let q = quat(&pose.rotation);
    let color = rerun::Color::from_rgb(color[0], color[1], color[2]);
    match shape {
        Shape::Box { half_extents_m } => rec.log_static(
            path,
            &rerun::Boxes3D::from_half_sizes([half_extents_m.map(|h| h as f32)])
                .with_centers([c])
                .with_quaternions([q])
                .with_colors([color])
                .with_fill_mode(rerun::FillMode::Solid),
        )?,
        Shape::Sphere { radius_m } => rec.log_static(
            path,
            &rerun::Ellipsoids3D::from_centers_and_radii([c], [*radius_m as f32])
                .with_colors([color])
                .with_fill_mode(rerun::FillMode::Solid),
        )?,
        Shape::Cylinder {
            radius_m,
            half_height_m,
        } => rec.log_static(
            path,
            &rerun::Cylinders3D::from_lengths_and_radii(
                [2.0 * *half_height_m as f32],
                [*radius_m as f32],
            )
            .with_centers([c])
            .with_quaternions([q])
            .with_colors([color])
            .with_fill_mode(rerun::FillMode::Solid),
        )?,
        Shape::Capsule {
            radius_m,
            half_height_m,
        } => rec.log_static(
            path,
            &rerun::Capsules3D::from_lengths_and_radii(
                [2.0 * *half_height_m as f32],
                [*radius_m as f32],
            )
            // Rerun's capsule starts at its origin and runs along +z; ours is centred.
            .with_translations([v3(&(pose.translation.vector
                - pose.rotation * nalgebra::Vector3::new(0.0, 0.0, *half_height_m)))])
            .with_quaternions([q])
            .with_colors([color]),
        )?,
    }
    Ok(())
}

/// One link of the robot and where its visuals sit.
pub struct Link {
    /// URDF link name.
    pub name: String,
    /// Its shapes in the link frame.
    pub shapes: Vec<(Shape, Isometry3<f64>)>,
    /// Its meshes in the link frame.
    pub meshes: Vec<Mesh>,
    /// Visual meshes rerun cannot read (file names), when the link is drawn from its collision
    /// geometry instead or not at all.
    pub not_drawn: Vec<String>,
}

/// A mesh of a link, as the URDF names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    /// The URDF's file name (`package://`, `file://` or a path relative to the URDF).
    pub filename: String,
    /// Pose in the link frame.
    pub pose: Isometry3<f64>,
    /// Scale per axis.
    pub scale: [f64; 3],
}

/// Mesh formats rerun's `Asset3D` reads from one file (by extension): a `.gltf` usually refers to
/// other files (buffers, textures) and is not drawn; convert it to `.glb`.
pub const DRAWABLE_MESHES: [&str; 3] = ["stl", "obj", "glb"];

fn drawable_mesh(filename: &str) -> bool {
    std::path::Path::new(filename)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| DRAWABLE_MESHES.contains(&e.to_ascii_lowercase().as_str()))
}

/// Where a mesh file of the URDF in `urdf_dir` lies. `file://` and plain names: absolute as given,
/// relative to the URDF's directory. `package://<pkg>/<rest>` (`<rest>` must be a plain relative
/// path, no `..`): under the nearest directory above the URDF named `<pkg>` (ROS's layout), else
/// under the URDF's directory, its parent, or `<parent>/<pkg>`; nothing further up. `None` when no
/// file is found there.
pub fn resolve_mesh(urdf_dir: &Path, filename: &str) -> Option<PathBuf> {
    if let Some(rest) = filename.strip_prefix("package://") {
        let (pkg, rest) = rest.split_once('/')?;
        let rest = Path::new(rest);
        if rest.as_os_str().is_empty()
            || !rest
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return None;
        }
        let mut roots: Vec<PathBuf> = urdf_dir
            .ancestors()
            .find(|d| d.file_name().is_some_and(|n| n == pkg))
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        roots.push(urdf_dir.to_path_buf());
        if let Some(parent) = urdf_dir.parent() {
            roots.push(parent.to_path_buf());
            roots.push(parent.join(pkg));
        }
        return roots
            .into_iter()
            .map(|r| r.join(rest))
            .find(|p| p.is_file());
    }
    let path = urdf_dir.join(filename.strip_prefix("file://").unwrap_or(filename));
    path.is_file().then_some(path)
}

/// A link fixed to another (a flange, a hand): its pose follows its parent's.
#[derive(Debug, Clone, Copy)]
pub struct FixedLink {
    /// Index of the parent link.
    pub parent: usize,
    /// Index of the fixed link.
    pub child: usize,
    /// The fixed offset.
    pub parent_from_child: Isometry3<f64>,
}

/// The robot's links from its URDF: the base link (the robot file's `base_link`, where the
/// scene's `world_from_base` applies), the moving links of the chain and every link fixed to one of
/// them (with its fixed offset), in the order `[base, chain children..., fixed...]`. Returns the
/// links and the fixed ones' offsets.
pub fn robot_links(
    urdf: &urdf_rs::Robot,
    base_link: &str,
    chain_links: &[String],
) -> (Vec<Link>, Vec<FixedLink>) {
    let mut names: Vec<String> = std::iter::once(base_link.to_string())
        .chain(chain_links.iter().cloned())
        .collect();
    let mut fixed = Vec::new();
    // Links fixed to a known link, found until none is added.
    loop {
        let before = names.len();
        for j in &urdf.joints {
            if !matches!(j.joint_type, urdf_rs::JointType::Fixed) || names.contains(&j.child.link) {
                continue;
            }
            if let Some(parent) = names.iter().position(|n| *n == j.parent.link) {
                fixed.push(FixedLink {
                    parent,
                    child: names.len(),
                    parent_from_child: pose_xyz_rpy(*j.origin.xyz, *j.origin.rpy),
                });
                names.push(j.child.link.clone());
            }
        }
        if names.len() == before {
            break;
        }
    }
    let by_name: BTreeMap<&str, &urdf_rs::Link> =
        urdf.links.iter().map(|l| (l.name.as_str(), l)).collect();
    let links = names
        .iter()
        .map(|name| {
            let mut link = Link {
                name: name.clone(),
                shapes: Vec::new(),
                meshes: Vec::new(),
                not_drawn: Vec::new(),
            };
            let Some(l) = by_name.get(name.as_str()) else {
                return link;
            };
            let unreadable: Vec<String> = l
                .visual
                .iter()
                .filter_map(|v| match &v.geometry {
                    urdf_rs::Geometry::Mesh { filename, .. } if !drawable_mesh(filename) => {
                        Some(filename.clone())
                    }
                    _ => None,
                })
                .collect();
            let geoms: Vec<(&urdf_rs::Geometry, &urdf_rs::Pose)> =
                if l.visual.is_empty() || !unreadable.is_empty() {
                    l.collision
                        .iter()
                        .map(|c| (&c.geometry, &c.origin))
                        .collect()
                } else {
                    l.visual.iter().map(|v| (&v.geometry, &v.origin)).collect()
                };
            link.not_drawn = unreadable;
            for (g, origin) in geoms {
                let pose = pose_xyz_rpy(*origin.xyz, *origin.rpy);
                let shape = match g {
                    urdf_rs::Geometry::Box { size } => Shape::Box {
                        half_extents_m: size.map(|s| 0.5 * s),
                    },
                    urdf_rs::Geometry::Cylinder { radius, length } => Shape::Cylinder {
                        radius_m: *radius,
                        half_height_m: 0.5 * length,
                    },
                    urdf_rs::Geometry::Capsule { radius, length } => Shape::Capsule {
                        radius_m: *radius,
                        half_height_m: 0.5 * length,
                    },
                    urdf_rs::Geometry::Sphere { radius } => Shape::Sphere { radius_m: *radius },
                    urdf_rs::Geometry::Mesh { filename, scale } => {
                        if drawable_mesh(filename) {
                            link.meshes.push(Mesh {
                                filename: filename.clone(),
                                pose,
                                scale: scale.map_or([1.0; 3], |s| *s),
                            });
                        } else if !link.not_drawn.contains(filename) {
                            link.not_drawn.push(filename.clone());
                        }
                        continue;
                    }
                };
                link.shapes.push((shape, pose));
            }
            link
        })
        .collect();
    (links, fixed)
}
