// CRC-32C (Castagnoli) and the masked form TFRecord / tfevents files store.
//
// Hand-written because no library in Debian 12 provides it to C++: Google's crc32c library is not packaged for
// bookworm, Abseil's absl/crc arrived in 20230125 (Debian ships 20220623), and zlib's crc32 uses the other
// polynomial. It is a byte-wise table, checked against the published check value below and RFC 3720's vectors.
#ifndef TRAINER_OUTPUTS_CRC32C_H_
#define TRAINER_OUTPUTS_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace trainer {

// CRC-32C of `data` (reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF): "123456789" gives
// 0xE3069283.
uint32_t Crc32c(std::string_view data);

// TFRecord's mask, so that a CRC of data containing CRCs stays well-distributed: ((crc >> 15) | (crc << 17)) +
// 0xa282ead8, modulo 2^32.
uint32_t MaskCrc32c(uint32_t crc);

}  // namespace trainer

#endif  // TRAINER_OUTPUTS_CRC32C_H_
