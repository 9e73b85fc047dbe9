// dit — placeholder; the owner of this part replaces it.
#ifndef REFRAIN_NN_DIT_H
#define REFRAIN_NN_DIT_H
#endif
