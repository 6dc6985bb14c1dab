# Sourced (POSIX sh) by scripts/bootstrap.sh, scripts/synth.sh and scripts/cdk-app, with $root set to the
# checkout: puts the Node that scripts/bootstrap.sh installed into the project (.node/, when the system's
# Node is older than package.json's engines) first on PATH, so the CDK CLI and jsii run on it.
project_node_bin="$root/.node/bin"
if [ -x "$project_node_bin/node" ]; then
  case ":$PATH:" in
    ":$project_node_bin:"*) ;;
    *) PATH="$project_node_bin:$PATH" ;;
  esac
  export PATH
fi
