// The EXIF Orientation tag (0x0112) of a JPEG APP1 segment, and applying it to pixels.
#pragma once
#include <cstddef>
#include <cstdint>

#include "vision/image.h"

namespace g3n {

// `app1` is the segment payload (starting with "Exif\0\0"). Returns 1..8, or 1 when the tag is
// absent or the block is malformed (a bad EXIF block never fails a decode).
int ExifOrientation(const uint8_t* app1, size_t size);

// Turns stored pixels into the upright picture for an orientation 1..8.
RgbImage ApplyOrientation(const RgbImage& img, int orientation);

}  // namespace g3n
