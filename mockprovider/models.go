package mockprovider

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// modelList is OpenAI's GET /v1/models answer.
type modelList struct {
	Object string  `json:"object"` // "list"
	Data   []model `json:"data"`
}

type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// initModels encodes the model lists once: one per provider, and "" for
// the models of every provider.
func (s *Server) initModels() error {
	s.models = make(map[string][]byte)
	all := modelList{Object: "list", Data: []model{}}
	seen := make(map[string]bool)
	for _, name := range s.providerNames {
		m := model{ID: s.providers[name].model, Object: "model", OwnedBy: "mcpload"}
		b, err := json.Marshal(modelList{Object: "list", Data: []model{m}})
		if err != nil {
			return fmt.Errorf("provider %q: %w", name, err)
		}
		s.models[name] = append(b, '\n')
		if !seen[m.ID] {
			seen[m.ID] = true
			all.Data = append(all.Data, m)
		}
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	s.models[""] = append(b, '\n')
	return nil
}

func (s *Server) handleProviderModels(w http.ResponseWriter, r *http.Request) {
	if s.namedProvider(w, r, writeError) != nil {
		s.serveModels(w, r, r.PathValue("name"))
	}
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) { s.serveModels(w, r, "") }

func (s *Server) serveModels(w http.ResponseWriter, r *http.Request, key string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	w.Header()["Content-Type"] = jsonContentType
	w.Write(s.models[key])
}
