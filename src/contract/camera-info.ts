import { z } from 'zod';
import { readYamlFile } from './files.js';
import { parseWith } from './schema-error.js';

/**
 * A camera's calibration in camera_calibration's YAML (what `cameracalibrator` writes and
 * camera_info_manager reads): image size, intrinsics K, distortion D, rectification R,
 * projection P. Matrix sizes are checked against their declared rows and columns.
 */

const matrix = (rows: number, cols: number) =>
  z
    .object({
      rows: z.literal(rows),
      cols: z.literal(cols),
      data: z.array(z.number()).length(rows * cols),
    })
    .strict();

const cameraInfoSchema = z
  .object({
    image_width: z.int().positive(),
    image_height: z.int().positive(),
    camera_name: z.string().min(1),
    camera_matrix: matrix(3, 3),
    distortion_model: z.enum(['plumb_bob', 'rational_polynomial', 'equidistant']),
    distortion_coefficients: z
      .object({ rows: z.literal(1), cols: z.int().nonnegative(), data: z.array(z.number()) })
      .strict()
      .refine((d) => d.data.length === d.cols, 'data must hold cols values'),
    rectification_matrix: matrix(3, 3),
    projection_matrix: matrix(3, 4),
  })
  .strict();

export type CameraInfo = z.infer<typeof cameraInfoSchema>;

export function loadCameraInfo(path: string): CameraInfo {
  return parseWith(cameraInfoSchema, readYamlFile(path), path);
}
