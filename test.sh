#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing, builds, runs
# every test, and ends with the totals alone on a line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

missing=()
/usr/bin/python3 -c 'import grpc' 2>/dev/null || missing+=(python3-grpcio)
/usr/bin/python3 -c 'import google.protobuf' 2>/dev/null || missing+=(python3-protobuf)
command -v setsid >/dev/null || missing+=(util-linux)
command -v flock >/dev/null || missing+=(util-linux)
# A task journal on a frozen disk (FurlgenTests): an ext4 image, loop-mounted and frozen.
command -v fsfreeze >/dev/null || missing+=(util-linux)
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
command -v mpirun >/dev/null || missing+=(openmpi-bin)
# The MPI binding's MPICH-ABI tests (libmpich.so.12; OpenMPI stays the one mpirun runs).
/sbin/ldconfig -p | grep -q 'libmpi\(ch\)\?\.so\.12 ' || missing+=(libmpich12)
command -v ip >/dev/null || missing+=(iproute2)
command -v sbatch >/dev/null || missing+=(slurm-wlm munge)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v tmux >/dev/null || missing+=(tmux)
# The controller is built to native code (Native AOT), which links with the C compiler.
command -v gcc >/dev/null || command -v clang >/dev/null || missing+=(gcc libc6-dev)
# Notebook tests: Jupyter runs them headless (nbconvert --execute); dotnet-interactive itself comes from NuGet.
/usr/bin/python3 -c 'import nbclient, nbformat, jupyter_client, ipykernel' 2>/dev/null \
  || missing+=(python3-nbclient python3-nbformat jupyter-client python3-ipykernel)
[ -x /usr/bin/jupyter-nbconvert ] || missing+=(jupyter-nbconvert)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { echo "test.sh: apt-get install ${missing[*]} failed"; echo "0 passed, 1 failed"; exit 1; }
  else
    echo "test.sh: missing Debian packages ${missing[*]}; run as root or install them"
  fi
fi

if ! scripts/build-apps; then
  echo "0 passed, 1 failed"
  exit 1
fi

results="artifacts/test-results"
rm -rf "$results"
if ! dotnet build CapCluster.sln -c Debug --nologo -v quiet -clp:ErrorsOnly; then
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test CapCluster.sln -c Debug --no-build --nologo --results-directory "$results" \
  --logger "trx" --logger "console;verbosity=normal" -- RunConfiguration.TestSessionTimeout=2400000
status=$?

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(value total); executed=$(value executed); p=$(value passed); f=$(value failed)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # the runner failed without a test failing (a crash or a build error): count it
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$files" -gt 0 ]
