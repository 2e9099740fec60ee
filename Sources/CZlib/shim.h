// zlib for recordings (compress2/uncompress, plain functions Swift imports as they are). Only ShmCore's
// Recording uses it; Debian's zlib1g is essential, zlib1g-dev builds it.
#include <zlib.h>
