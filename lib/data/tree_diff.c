/* placeholder: being written */
typedef int mlops__placeholder_tree_diff;
