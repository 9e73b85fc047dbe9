// checkpoint — placeholder; the owner of this part replaces it.
#ifndef REFRAIN_NN_CHECKPOINT_H
#define REFRAIN_NN_CHECKPOINT_H
#endif
