# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared vocabulary: the kernel's two command-line splitters, and shell assignment lines."""

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _vocab as vocab
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.kernel import swiotlb_size
from ansible_collections.fleetops.kdump.plugins.module_utils._kernel import crashkernel_tokens


@pytest.mark.parametrize("text, params, words", [
    ("ro quiet", ["ro", "quiet"], ["ro", "quiet"]),
    # next_arg(): any ASCII whitespace separates; parse_crashkernel(): a value ends at a space only
    ("crashkernel=256M\tquiet", ["crashkernel=256M", "quiet"], ["crashkernel=256M\tquiet"]),
    # double quotes group for next_arg(); the crashkernel search does not know them
    ('dyndbg="a b" crashkernel=1G', ['dyndbg="a b"', "crashkernel=1G"], ['dyndbg="a', 'b"', "crashkernel=1G"]),
    # a no-break space separates for neither
    ("a\u00a0b c", ["a\u00a0b", "c"], ["a\u00a0b", "c"]),
    ("  \n", [], []),
])
def test_the_two_kernel_splitters(text, params, words):
    assert vocab.split_cmdline(text) == params
    assert vocab.kernel_words(text) == words


def test_crashkernel_tokens_end_a_value_at_a_space_only():
    found = crashkernel_tokens("ro crashkernel=256M\tquiet xcrashkernel=64M")
    assert found == ["crashkernel=256M\tquiet", "crashkernel=64M"]


def test_swiotlb_is_read_as_a_kernel_parameter():
    default = swiotlb_size("ro")
    assert swiotlb_size("ro swiotlb=262144") == 262144 << 11
    # a no-break space does not end a parameter, so this is no swiotlb= parameter at all
    assert swiotlb_size("ro x\u00a0swiotlb=262144") == default


@pytest.mark.parametrize("line, name, rest", [
    ("USE_KDUMP=1", "USE_KDUMP", "1"),
    ("  export GRUB_CMDLINE_LINUX=\"quiet\"", "GRUB_CMDLINE_LINUX", "\"quiet\""),
    ("# USE_KDUMP=1", None, None),
    ("1X=2", None, None),
])
def test_shell_assignment_lines(line, name, rest):
    match = vocab.SHELL_ASSIGNMENT_RE.match(line)
    assert (match.group(1), match.group(2)) == (name, rest) if name else match is None
