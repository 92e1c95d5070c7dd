package geo

import "math"

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// Distance returns the great-circle distance in km between two points given
// in degrees, by the haversine formula. It allocates nothing.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	sinDLat := math.Sin((lat2 - lat1) * rad / 2)
	sinDLon := math.Sin((lon2 - lon1) * rad / 2)
	h := sinDLat*sinDLat + math.Cos(lat1*rad)*math.Cos(lat2*rad)*sinDLon*sinDLon
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(h, 1)))
}
