/** A newc ("070701") cpio archive, the format the kernel unpacks as an initramfs. */

export type CpioEntry =
  | { kind: 'directory'; name: string; mode: number }
  | { kind: 'file'; name: string; mode: number; data: Buffer }
  | { kind: 'character-device'; name: string; mode: number; major: number; minor: number };

const FILE_TYPE = { directory: 0o040000, file: 0o100000, 'character-device': 0o020000 } as const;
const NO_DATA = Buffer.alloc(0);

/** The archive of `entries` in order (a directory before what it holds), owned by root, dated 0. */
export function newcArchive(entries: readonly CpioEntry[]): Buffer {
  const members = entries.map((entry, index) =>
    member({
      inode: index + 1,
      name: entry.name,
      mode: FILE_TYPE[entry.kind] | entry.mode,
      links: entry.kind === 'directory' ? 2 : 1,
      data: entry.kind === 'file' ? entry.data : NO_DATA,
      device: entry.kind === 'character-device' ? [entry.major, entry.minor] : [0, 0],
    }),
  );
  const trailer = member({ inode: 0, name: 'TRAILER!!!', mode: 0, links: 1, data: NO_DATA, device: [0, 0] });
  return Buffer.concat([...members, trailer].flat());
}

interface Member {
  inode: number;
  name: string;
  mode: number;
  links: number;
  data: Buffer;
  device: [number, number];
}

function member({ inode, name, mode, links, data, device }: Member): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`);
  // c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize c_devmajor c_devminor c_rdevmajor c_rdevminor c_namesize c_check
  const fields = [inode, mode, 0, 0, links, 0, data.length, 0, 0, ...device, nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map((field) => field.toString(16).padStart(8, '0')).join('')}`, 'ascii');
  return [header, nameBytes, padding(header.length + nameBytes.length), data, padding(data.length)];
}

/** newc aligns each name (after its 110-byte header) and each file's data to 4 bytes. */
function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
